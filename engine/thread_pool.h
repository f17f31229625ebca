// A fixed pool of worker threads for data-parallel loops over worlds. Injected into the
// Simulator (DESIGN.md §2.12). Work is split into contiguous static ranges, so which thread
// runs a world never changes results (worlds do not share mutable data).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ftwin {

class ThreadPool {
 public:
  /// `num_threads` >= 1 threads in total, including the calling thread.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  /// Calls body(begin, end) on disjoint ranges covering [0, count) and waits for all of them.
  /// Ranges smaller than `min_chunk` items are not split further. Not reentrant.
  void ParallelFor(int count, const std::function<void(int, int)>& body, int min_chunk = 1);

 private:
  void WorkerLoop(int worker);
  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int, int)>* body_ = nullptr;
  int count_ = 0;
  int chunks_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace ftwin
