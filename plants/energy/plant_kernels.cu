// CUDA build of the plant device driver: the same source, compiled by nvcc.
#include "plants/energy/plant_kernels.cpp"
