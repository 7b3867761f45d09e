// The SDK's public API. Protocol internals (runtime/, proto/) stay private.
export { serve, type ServeOptions } from "./runtime/serve.ts";
export { createLogger, type Logger, type LogLevel } from "./runtime/logger.ts";
export type {
  BackendConfig,
  BackendFactory,
  BackendType,
  ExistenceResult,
  JsonObject,
  LeaseOptions,
  LogicalBackend,
  Operation,
  PluginEnvironment,
  Request,
  Response,
  Secret,
  SpecialPaths,
  Storage,
  StorageEntry,
  SystemView,
  IdentityAlias,
  IdentityEntity,
  IdentityGroup,
} from "./logical/types.ts";
export {
  LogicalError,
  codedError,
  invalidRequest,
  permissionDenied,
  unsupportedOperation,
  unsupportedPath,
  readOnly,
  READ_ONLY_MESSAGE,
  type ErrorKind,
} from "./logical/errors.ts";
export { isPerformanceStandby, REPLICATION_PERFORMANCE_STANDBY } from "./logical/replication.ts";
export { Backend, defineBackend, type BackendDefinition } from "./framework/backend.ts";
export type { PathDefinition, HandlerContext, Handler, OperationDefinition, PathOperation } from "./framework/path.ts";
export { FieldData, type FieldSchemas } from "./framework/field-data.ts";
export { FieldError, type FieldSchema, type FieldType, type FieldValue } from "./framework/fields.ts";
export { parseDurationSeconds, formatDuration } from "./framework/duration.ts";
export { secretResponse, type SecretType, type SecretContext, type IssueOptions } from "./framework/secret.ts";
export { calculateTtl, type TtlInput, type TtlResult } from "./framework/ttl.ts";
export { putWal, getWal, deleteWal, listWal, type WalEntry } from "./framework/wal.ts";
export { getJson, putJson } from "./framework/storage-json.ts";
export { IdentityTemplateError, type IdentityTemplateErrorCode, populateIdentityTemplate, resolveIdentityTemplate, validateIdentityTemplate } from "./framework/identity-template.ts";
