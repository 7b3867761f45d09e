// The emulators' programmatic API, for tests and benchmarks.
export { startOpenAIEmulator } from "./openai/emulator.ts";
export type { OpenAIEmulator, OpenAIEmulatorOptions, OpenAISettings, ProjectInfo } from "./openai/emulator.ts";
export { startLiteLLMEmulator } from "./litellm/emulator.ts";
export type { LiteLLMEmulator, LiteLLMEmulatorOptions, LiteLLMSettings } from "./litellm/emulator.ts";
export { startOpenRouterEmulator } from "./openrouter/emulator.ts";
export type { OpenRouterEmulator, OpenRouterEmulatorOptions, OpenRouterSettings } from "./openrouter/emulator.ts";
export type { EmulatorControl, RateLimitSetting } from "./core/server.ts";
export type { FaultAction, FaultRule, FaultRuleInput, MalformedVariant } from "./core/faults.ts";
export type { RequestLogEntry, RequestStats } from "./core/request-log.ts";
