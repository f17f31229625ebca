#include "engine/thread_pool.h"

#include <algorithm>

namespace ftwin {

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  for (int worker = 1; worker < num_threads_; ++worker)
    workers_.emplace_back([this, worker] { WorkerLoop(worker); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

namespace {
// Range of chunk `index` of `chunks` equal parts of [0, count).
void ChunkRange(int count, int chunks, int index, int* begin, int* end) {
  *begin = static_cast<int>(static_cast<int64_t>(count) * index / chunks);
  *end = static_cast<int>(static_cast<int64_t>(count) * (index + 1) / chunks);
}
}  // namespace

void ThreadPool::ParallelFor(int count, const std::function<void(int, int)>& body, int min_chunk) {
  if (count <= 0) return;
  const int chunks = std::min(num_threads_, std::max(1, count / std::max(1, min_chunk)));
  if (chunks <= 1) {
    body(0, count);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    count_ = count;
    chunks_ = chunks;
    pending_ = chunks - 1;
    ++generation_;
  }
  start_.notify_all();
  int begin, end;
  ChunkRange(count, chunks, 0, &begin, &end);
  body(begin, end);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  body_ = nullptr;
}

void ThreadPool::WorkerLoop(int worker) {
  uint64_t seen_generation = 0;
  for (;;) {
    const std::function<void(int, int)>* body;
    int count, chunks;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen_generation; });
      if (stop_) return;
      seen_generation = generation_;
      body = body_;
      count = count_;
      chunks = chunks_;
    }
    if (worker < chunks) {
      int begin, end;
      ChunkRange(count, chunks, worker, &begin, &end);
      (*body)(begin, end);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace ftwin
