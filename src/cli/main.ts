/** The `provisio` command line: kubectl-like verbs over git directories and clusters. */
import { Command, Option } from 'commander';
import { connectorSchema, taskSchema } from '../generated/schemas.js';
import { CRD_SPECS, crdYaml, renderCrd } from '../schema/crd.js';
import { cardsCommand } from './cards-command.js';
import { describeCommand, getCommand } from './get-command.js';
import { operationCommand } from './operation-command.js';
import { parseFormat } from './output.js';
import { DEFAULT_STATE_DIR, runCommand } from './run-command.js';
import { testConnectionCommand } from './test-connection-command.js';
import { validateCommand } from './validate-command.js';

const outputOption = () =>
  new Option('-o, --output <format>', 'output format: table, json or yaml').default('table').argParser(parseFormat);

export function buildProgram(): Command {
  const program = new Command('provisio')
    .description('Native connectors as code: validate, run and inspect Connector and Task resources.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('validate')
    .description('validate resource files and directories (recursive); exit 1 on any error')
    .argument('<paths...>', 'files or directories')
    .addOption(outputOption())
    .option('--secrets-dir <dir>', 'secrets directory (<dir>/<name>/<key>) to check secret references against')
    .action(async (paths: string[], opts) => {
      process.exitCode = await validateCommand(paths, opts);
    });

  program
    .command('run')
    .description('run the controller: watch resources, run scheduled tasks, serve the API')
    .option('--dir <path>', 'directory of Connector and Task YAML (git-directory mode)')
    .option('--kubernetes', 'read Connectors and Tasks from the Kubernetes API and write their status back')
    .option(
      '--namespace <ns>',
      'with --kubernetes: a namespace to watch (repeat for more; default all)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--kubeconfig <file>',
      'with --kubernetes: kubeconfig file (default in-cluster, $KUBECONFIG, ~/.kube/config)',
    )
    .option('--no-leader-elect', 'with --kubernetes: schedule without a leader Lease (one replica only)')
    .option('--lease-name <name>', 'with --kubernetes: the leader Lease', 'provisio-controller')
    .option('--lease-namespace <ns>', 'with --kubernetes: namespace of the leader Lease (default $POD_NAMESPACE)')
    .option('--lease-duration <seconds>', 'with --kubernetes: leader Lease duration', (v) => Number.parseInt(v, 10), 15)
    .option(
      '--redis <url>',
      'Redis for state shared by replicas: Idempotency-Key results, invocation counters (default $PROVISIO_REDIS_URL)',
    )
    .addOption(
      new Option('--environment <type>', 'environment type, in every log line and metric label')
        .choices(['test', 'prod', 'demo', 'dev'])
        .env('PROVISIO_ENVIRONMENT'),
    )
    .option('--state-dir <dir>', 'where status, run history, cache and local cards are kept', DEFAULT_STATE_DIR)
    .option('--secrets-dir <dir>', 'secrets directory (<dir>/<name>/<key>); default $PROVISIO_SECRETS_DIR')
    .addOption(new Option('--target <kind>', 'where loads write data cards').choices(['local', 'm42']).default('local'))
    .option('--target-url <url>', 'home solution REST API URL for --target m42')
    .option('--listen <addr>', 'serve the API on HOST:PORT or :PORT')
    .option('--once', 'run every scheduled task once, then exit non-zero if any run failed')
    .option('--concurrency <n>', 'runs at once across all tasks', (v) => Number.parseInt(v, 10), 6)
    .option('--api-token-file <file>', 'file with API bearer tokens, one per line (also $PROVISIO_API_TOKENS)')
    .option(
      '--max-invocations <n>',
      'event invocations handled at once; more get 503',
      (v) => Number.parseInt(v, 10),
      256,
    )
    .option('--idempotency-ttl <duration>', 'how long an Idempotency-Key result is kept', '24h')
    .action(async (opts) => {
      opts.redis ??= process.env.PROVISIO_REDIS_URL || undefined;
      if (opts.kubernetes && opts.dir) throw new Error('give either --dir PATH or --kubernetes, not both');
      if (!opts.kubernetes && opts.namespace) throw new Error('--namespace needs --kubernetes');
      if (!opts.kubernetes && !opts.dir) {
        throw new Error('give --dir PATH (the directory that holds your Connector and Task YAML) or --kubernetes');
      }
      process.exitCode = await runCommand(opts);
    });

  const sourceOptions = (cmd: Command) =>
    cmd
      .option('--dir <path>', 'resource directory (read without a running controller)')
      .option('--state-dir <dir>', 'state directory of the controller', DEFAULT_STATE_DIR)
      .option('--server <url>', 'a running controller (default $PROVISIO_SERVER)')
      .option('-n, --namespace <ns>', 'namespace')
      .option('-A, --all-namespaces', 'all namespaces');

  sourceOptions(
    program
      .command('get')
      .description('list connectors, tasks, or the runs of a task')
      .argument('<type>', 'connectors, tasks or runs')
      .argument('[name]', 'one resource (runs: the task)')
      .addOption(outputOption()),
  ).action(async (type: string, name: string | undefined, opts) => {
    await getCommand(type, name, opts.output, { ...opts, allNamespaces: opts.allNamespaces ?? !opts.namespace });
  });

  sourceOptions(
    program
      .command('describe')
      .description('show one connector or task in detail, with conditions and run history')
      .argument('<type>', 'connector or task')
      .argument('<name>', 'NAME or NAMESPACE/NAME'),
  ).action(async (type: string, name: string, opts) => {
    await describeCommand(type, name, opts);
  });

  program
    .command('test-connection')
    .description("run a connector's connection check (also kept in its status.connection); exit 1 if it fails")
    .argument('<connector>', 'NAME or NAMESPACE/NAME')
    .option('--dir <path>', 'resource directory: check from here, without a running controller')
    .option('--secrets-dir <dir>', 'with --dir: secrets directory (<dir>/<name>/<key>); default $PROVISIO_SECRETS_DIR')
    .option('--server <url>', 'a running controller: the check runs there (default $PROVISIO_SERVER)')
    .option('-n, --namespace <ns>', 'namespace')
    .action(async (name: string, opts) => {
      process.exitCode = await testConnectionCommand(name, opts);
    });

  program
    .command('cards')
    .description('list the data cards of the embedded local target (without TEMPLATE: the templates)')
    .argument('[template]', 'template (data card type)')
    .option('--state-dir <dir>', 'state directory of the controller', DEFAULT_STATE_DIR)
    .option('--limit <n>', 'most cards in a table', (v) => Number.parseInt(v, 10), 200)
    .addOption(outputOption())
    .action(async (template: string | undefined, opts) => {
      await cardsCommand(template, opts.output, opts.stateDir, opts.limit);
    });

  const operations: Array<[string, string]> = [
    ['trigger', 'run a scheduled task now'],
    ['stop', 'stop a running task; it runs again at its next scheduled time'],
    ['clear-cache', 'clear the task cache: the next run loads every record again'],
    ['suspend', 'stop scheduling a task'],
    ['resume', 'resume scheduling a task'],
  ];
  for (const [op, description] of operations) {
    const cmd = program
      .command(op)
      .description(`${description} (sent to a running controller)`)
      .argument('<task>', 'NAME or NAMESPACE/NAME')
      .option('--server <url>', 'the controller (default $PROVISIO_SERVER or http://127.0.0.1:8080)')
      .option('-n, --namespace <ns>', 'namespace', 'default')
      .option('--kubernetes', 'operate on the Task in the cluster (annotations, spec.suspend) instead')
      .option('--kubeconfig <file>', 'with --kubernetes: kubeconfig file');
    if (op === 'clear-cache') {
      cmd.option('--cursor', 'also reset the incremental cursors: the next run reads every kind in full');
    }
    if (op === 'trigger') {
      cmd.option('--wait', 'follow the run until it ends; exit 1 if it failed');
      cmd.option('--timeout <seconds>', 'longest to wait', (v) => Number.parseInt(v, 10), 7200);
    }
    cmd.action(async (task: string, opts) => {
      if (opts.kubernetes) {
        const { clusterOperation } = await import('./cluster-operations.js');
        process.exitCode = await clusterOperation(op, task, {
          namespace: opts.namespace,
          kubeconfig: opts.kubeconfig,
          wait: opts.wait,
          timeoutSeconds: opts.timeout ?? 7200,
          cursor: opts.cursor,
        });
        return;
      }
      process.exitCode = await operationCommand(op, task, {
        server: opts.server ?? process.env.PROVISIO_SERVER ?? 'http://127.0.0.1:8080',
        namespace: opts.namespace,
        wait: opts.wait,
        timeoutSeconds: opts.timeout ?? 7200,
        cursor: opts.cursor,
      });
    });
  }

  program
    .command('crds')
    .description('print the CustomResourceDefinitions')
    .action(() => {
      const bundles: Record<string, typeof connectorSchema> = { Connector: connectorSchema, Task: taskSchema };
      const docs = CRD_SPECS.map(({ names, columns }) => crdYaml(renderCrd(bundles[names.kind], names, columns)));
      process.stdout.write(`---\n${docs.join('---\n')}`);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exitCode = err.exitCode ?? 2;
      return;
    }
    console.error(`error: ${err.message ?? String(e)}`);
    process.exitCode = 2;
  }
}

await main(process.argv);
