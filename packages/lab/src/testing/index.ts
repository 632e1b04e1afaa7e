/** `@chorus/lab/testing`: helpers for tests against the lab and fakes of REST APIs. */
export { endpoint, labProvider, labResolver, labServer } from './lab-entries.js';
export {
  CONFORMANCE_ZONE,
  CRASH_ZONE,
  LIFECYCLE_LAB_PREFIX,
  ROLL_ZONE,
  ROLLOVER_ZONE,
  STUCK_ZONE,
  startTestLab,
  TEST_LAB_PREFIX,
  TEST_LAB_ZONES,
} from './test-lab.js';
export type { TestLab } from './test-lab.js';
export { startFakeHttpServer } from './fake-http-server.js';
export { waitUntil } from './wait-until.js';
export { fakeAdmin, rejectionOf, servedRecords } from './provider-fake-admin.js';
export type { FakeAdmin, FakeFault } from './provider-fake-admin.js';
export type {
  FakeAuth,
  FakeHandler,
  FakeHttpServer,
  FakeHttpServerOptions,
  FakeRateLimit,
  FakeRequest,
  FakeResponse,
  FakeRoute,
  RecordedRequest,
} from './fake-http-server.js';
