// CUDA build of the battery device driver: the same source, compiled by nvcc.
#include "plants/energy/battery_kernels.cpp"
