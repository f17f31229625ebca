// CUDA build of the range_sensor device driver: the same source, compiled by nvcc.
#include "engine/sensors/range_sensor_kernels.cpp"
