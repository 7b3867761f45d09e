// One writer at a time for a mount's connections: rotation, the retry of
// replaced-key deletions, and config writes all read a connection, talk to
// the provider, then write the connection back. Two of them interleaved
// would store a stale copy and lose track of a live admin key.
export class AsyncLock {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
