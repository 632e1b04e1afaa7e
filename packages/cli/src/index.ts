export { runCli } from './cli.js';
export { demoCommand } from './commands/demo.js';
export type { CliIo } from './io.js';
export { UsageError } from './args.js';
export { sidecarConfigFor, startSidecarProcess, stopSidecarProcess } from './demo/sidecars.js';
export type { RunningSidecar } from './demo/sidecars.js';
export { TrafficMonitor } from './demo/traffic.js';
export type { TrafficFailure, TrafficReport, TrafficResolver } from './demo/traffic.js';
