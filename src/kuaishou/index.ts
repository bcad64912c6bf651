/** The Kuaishou Open Platform client: the only code in ks-isv that speaks Kuaishou's wire format. */
export * from './types.ts';
export * from './errors.ts';
export { createKuaishouError, type FailureReport } from './error-factory.ts';
export {
  AUTHORIZATION_PAGE,
  CAPABILITY_STATUS,
  CAPABILITY_WIRE,
  capabilityPermissionSet,
  CREDENTIAL_PARAMS,
  ENDPOINTS,
  ERROR_CODES,
  lookupErrorCode,
  MESSAGE_FIELD,
  SUCCESS_RESULT,
  type CredentialKind,
  type Endpoint,
  type ErrorCodeName,
  type ErrorCodeRow,
  type InputOf,
  type Operation,
  type OutputOf,
  type Source,
} from './endpoints.ts';
export {
  EndpointOverrideError,
  isOverridden,
  operationOf,
  overriddenRows,
  parseEndpointOverrides,
  resolveEndpoints,
  type EndpointOverride,
  type EndpointOverrides,
  type EndpointOverridesInput,
  type EndpointTable,
  type HttpMethod,
} from './endpoint-overrides.ts';
export { answerShape, expectedFields, missingFields, type AnswerShape, type ExpectedField } from './answer-shape.ts';
export {
  probePlatform,
  PROBE_OUTCOMES,
  type ProbeOptions,
  type ProbeOutcome,
  type ProbeReport,
  type ProbeRow,
  type ProbeRowDetails,
  type ProbeSummary,
  type ProbeTarget,
} from './probe.ts';
export { KuaishouClient, KUAISHOU_BASE_URL, type CallOptions, type KuaishouClientOptions } from './client.ts';
export { KuaishouPlatform, type AuthorizationLink, type KuaishouPlatformOptions } from './platform.ts';
export {
  DEFAULT_RETRY_BUDGET,
  DEFAULT_RETRY_POLICY,
  RetryBudget,
  type RetryBudgetOptions,
  type RetryPolicy,
} from './retry.ts';
export * from './ext-json.ts';
export { redact, REDACTED } from './redact.ts';
export { silentLogger, type Logger } from './logger.ts';
export type { FetchLike } from './transport.ts';
export { credentialKeys, type StoredCredential, type TokenStore } from './tokens/token-store.ts';
export { MemoryTokenStore } from './tokens/memory-token-store.ts';
export { TokenManager, type AuthorizationGrant, type TokenManagerOptions } from './tokens/token-manager.ts';
export * from './push/index.ts';
export { openPhoneNumber, sealPhoneNumber, PhoneDataError, type PhoneDataProblem, type OpenPhoneNumberInput } from './phone-number.ts';
