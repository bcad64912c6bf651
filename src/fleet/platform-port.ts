/**
 * What fleet needs from the Kuaishou platform, in our names. `KuaishouPlatform` (src/kuaishou) satisfies
 * it structurally; tests may pass a recording fake. Errors raised through it are translated by
 * `platform-errors.ts`.
 */
import type {
  AuthorizationGrant,
  AuthorizationLink,
  CapabilityApplyInput,
  CapabilityState,
  Capability,
  Done,
  QrCode,
  QrCodeInput,
  ServerDomains,
  ServerDomainsChange,
  SubmitAuditInput,
  Template,
  MerchantExt,
  MerchantUploadInput,
  Versions,
  WebviewDomainsChange,
} from '../kuaishou/index.ts';

export type {
  AuthorizationGrant,
  Capability,
  CapabilityState,
  QrCode,
  ServerDomains,
  ServerDomainsChange,
  Template,
  MerchantExt,
  MerchantUploadInput,
  Versions,
  WebviewDomainsChange,
};

export interface PlatformTokens {
  storeTicket(ticket: string, expiresInS: number): Promise<void>;
  hasValidTicket(): Promise<boolean>;
  requestTicketPush(): Promise<void>;
  exchangeAuthorizationCode(authorizationCode: string): Promise<AuthorizationGrant>;
  forgetAuthorizer(appId: string): Promise<void>;
  keepAuthorizerAlive(appId: string, withinMs: number): Promise<void>;
}

export interface PlatformPort {
  readonly tokens: PlatformTokens;
  createAuthorizationLink(redirectUri: string): Promise<AuthorizationLink>;
  listTemplates(): Promise<Template[]>;
  serverDomains(appId: string, change: ServerDomainsChange): Promise<ServerDomains>;
  webviewDomains(appId: string, change: WebviewDomainsChange): Promise<string[]>;
  uploadCode(appId: string, input: MerchantUploadInput): Promise<Done>;
  submitAudit(appId: string, input?: SubmitAuditInput): Promise<Done>;
  withdrawAudit(appId: string): Promise<Done>;
  getQrCode(appId: string, input?: QrCodeInput): Promise<QrCode>;
  getVersions(appId: string): Promise<Versions>;
  release(appId: string): Promise<Done>;
  rollback(appId: string): Promise<Done>;
  applyCapability(appId: string, input: CapabilityApplyInput): Promise<Done>;
  getCapabilityStatus(appId: string, capability: Capability): Promise<CapabilityState>;
}
