// CUDA build of the engine's device drivers: the same source, compiled by nvcc.
#include "engine/device_kernels.cpp"
