export { ConnectorError, classifyStatus, type ApiSystem, type CallStatus, type ErrorKind } from './errors.ts';
export { callWithRetry, retryPolicy, retryDelayMs, DEFAULT_RETRY_POLICY, type ApiCallObserver, type RetryPolicy } from './http-retry.ts';
export { InMemoryRateBudget, budgetKeys, defaultLimitFor, unlimitedBudget, type RateBudget, type BudgetLimit } from './rate-budget.ts';
