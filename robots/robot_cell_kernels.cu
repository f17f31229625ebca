// CUDA build of the robot cell device driver: the same source, compiled by nvcc.
#include "robots/robot_cell_kernels.cpp"
