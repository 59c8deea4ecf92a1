export { QueueRunner, type JobProcessor, type QueueRunnerOptions, type StopOptions } from './runner.ts';
export { JobQueue, type EnqueueInput, type RecordedEvent } from './job-queue.ts';
export { QueueNotifier } from './notifier.ts';
export { backoffMs, decideRetry, type BackoffOptions, type RetryDecision } from './retry.ts';
