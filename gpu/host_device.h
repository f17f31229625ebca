// Host-device macro: per-element math is written once and compiled for both the CPU
// and, when nvcc builds it, the GPU (DESIGN.md §2.6).
#pragma once

#if defined(__CUDACC__)
#define FTWIN_HD __host__ __device__
#define FTWIN_DEVICE_CODE 1
#else
#define FTWIN_HD
#define FTWIN_DEVICE_CODE 0
#endif
