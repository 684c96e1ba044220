// The library API. The CLI is a thin layer over these functions.

export { loadConfig, resolveConfig, type Config } from './config.js';
export * from './errors.js';
export { sync, type SyncOptions, type SyncReport, type SyncCounts } from './sync/pipeline.js';
export { makeReporter, silentReporter, type Reporter } from './sync/report.js';
export { loadLedger, type Ledger, type LedgerItem } from './sync/ledger.js';
export { loadState, type State } from './sync/state.js';
export { readStatus, formatStatus, type StatusReport } from './status/status.js';
export { renderMetrics, writeMetricsFile } from './status/metrics.js';
export { startServer, type ServeOptions, type RunningServer } from './serve/server.js';
export { verify, type VerifyOptions, type VerifyReport, type VerifyFailure } from './verify/index.js';
export { plan, type PlanOptions, type PlanReport } from './plan/index.js';
export { runDemo, demoInstructions, type DemoOptions, type DemoResult } from './demo/index.js';
