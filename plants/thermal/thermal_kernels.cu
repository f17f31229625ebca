// CUDA build of the thermal_network device driver: the same source, compiled by nvcc.
#include "plants/thermal/thermal_kernels.cpp"
