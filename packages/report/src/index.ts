export { buildTimeline, providerLaneId } from './timeline.js';
export type { BuildTimelineOptions } from './timeline.js';
export { renderProcessSvg } from './svg.js';
export { renderReportHtml } from './html.js';
export { svgFileName, timelineFromLog, writeReport } from './write.js';
export type { WriteReportOptions, WrittenReport, WrittenSvg } from './write.js';
export { ReportError } from './errors.js';
export { escapeXml } from './xml.js';
export { TIMELINE_SCHEMA_VERSION } from './model.js';
export type {
  Glitch,
  GlitchType,
  KeyEvent,
  Lane,
  LaneKind,
  LaneSegment,
  ObserverReport,
  ObserverTotals,
  ProcessStatus,
  ProcessTimeline,
  ProviderInfo,
  RollTimeline,
  StepTimeline,
  TimelineKey,
  TimelineModel,
  TimelineSummary,
  WaitSpan,
} from './model.js';
