/** `npm run serve`: the provider server alone, against KS_BASE_URL (the real platform or a sandbox). */
import { ConfigError, serverConfigFromEnv } from './config.ts';
import { startService } from './service.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = serverConfigFromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ks-isv: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const service = await startService(config);
  process.stdout.write(`ks-isv server listening on ${service.url} (public URL ${config.publicUrl})\n`);
  process.stdout.write(`  push URLs to register: ${config.publicUrl}/callbacks/auth and ${config.publicUrl}/callbacks/events\n`);
  if (service.generatedAdminKey) process.stdout.write(`  admin API key (shown once, keep it): ${service.generatedAdminKey}\n`);
  const stop = (): void => {
    void service.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
