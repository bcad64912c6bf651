/**
 * `npm start`: the whole product on embedded defaults, in one process — the local Kuaishou Open Platform
 * sandbox (state in ./data/sandbox.json) and the provider server on SQLite (./data/ks-isv.db), wired
 * together: the sandbox pushes to the server, the server's component credentials are the sandbox's.
 * Every variable of `npm run serve` and `npm run sandbox` still overrides.
 */
import { buildSandbox, type Sandbox } from './sandbox/app.ts';
import { SandboxConfigError, sandboxOptionsFromEnv } from './sandbox/config.ts';
import { componentEnv, ConfigError, serverConfigFromEnv } from './server/config.ts';
import { startService } from './server/service.ts';

function exit(message: string, code: number): never {
  console.error(`ks-isv: ${message}`);
  process.exit(code);
}

async function listen(sandbox: Sandbox, port: number): Promise<string> {
  try {
    return await sandbox.listen();
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') exit(`port ${port} is in use; set SANDBOX_PORT to another port`, 1);
    throw error;
  }
}

async function main(): Promise<void> {
  const env = process.env;
  // DATA_DIR (default ./data): where the sandbox's state, the SQLite database and the secret key live.
  const dataDir = (env.DATA_DIR || './data').replace(/\/+$/, '');
  let sandboxOptions;
  try {
    sandboxOptions = sandboxOptionsFromEnv({ SANDBOX_STATE_FILE: `${dataDir}/sandbox.json`, ...env });
  } catch (error) {
    if (error instanceof SandboxConfigError) exit(error.message, 2);
    throw error;
  }
  const sandbox = await buildSandbox(sandboxOptions);
  const sandboxUrl = await listen(sandbox, sandboxOptions.port);
  const component = sandbox.runtime.state.component;

  let config;
  try {
    config = serverConfigFromEnv({
      ...componentEnv(sandboxUrl, component),
      DATABASE_URL: `sqlite:${dataDir}/ks-isv.db`,
      KS_ISV_SECRET_KEY_FILE: `${dataDir}/secret.key`,
      ...env,
    });
  } catch (error) {
    await sandbox.close();
    if (error instanceof ConfigError) exit(error.message, 2);
    throw error;
  }
  // The sandbox's component app pushes to this server.
  Object.assign(component, { authEventUrl: `${config.publicUrl}/callbacks/auth`, messageUrl: `${config.publicUrl}/callbacks/events`, runtimeUrl: `${config.publicUrl}/runtime/v1` });
  sandbox.runtime.state.changed();

  let service;
  try {
    service = await startService(config);
  } catch (error) {
    await sandbox.close();
    if ((error as { code?: string }).code === 'EADDRINUSE') exit(`port ${config.port} is in use; set PORT to another port`, 1);
    throw error;
  }
  const key = service.generatedAdminKey
    ? `${service.generatedAdminKey}\n                                   (shown once: keep it; more with \`npm run keys -- create --role operator\`)`
    : '(created on first start; a new one: `npm run keys -- create --role admin`)';
  console.log(`
ks-isv — Kuaishou mini-program service provider platform

  admin console                    ${service.url}/
  server (REST API)                ${service.url}/api/v1
  API docs (OpenAPI)               ${service.url}/docs
  admin API key                    ${key}
  Kuaishou sandbox                 ${sandboxUrl}/sandbox
  database                         ${config.databaseUrl}

Stop with Ctrl-C.`);
  const stop = (): void => {
    void service
      .close()
      .then(() => sandbox.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
