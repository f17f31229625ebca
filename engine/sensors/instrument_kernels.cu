// CUDA build of the instrument device drivers: the same source, compiled by nvcc.
#include "engine/sensors/instrument_kernels.cpp"
