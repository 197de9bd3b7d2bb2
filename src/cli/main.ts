/** The `provisio` command line: kubectl-like verbs over git directories and clusters. */
import { Command, Option } from 'commander';
import { connectorSchema, taskSchema } from '../generated/schemas.js';
import { CRD_SPECS, crdYaml, renderCrd } from '../schema/crd.js';
import { cardsCommand } from './cards-command.js';
import { completionScript } from './completion-command.js';
import { UsageError } from './errors.js';
import { explain } from './explain-command.js';
import { exportCommand } from './export-command.js';
import { describeVerb, getVerb, parseGetFormat } from './get-output.js';
import { connectorOperation, operationCommand, operationTarget } from './operation-command.js';
import { parseFormat } from './output.js';
import { DEFAULT_STATE_DIR, runCommand } from './run-command.js';
import { schemaCommand } from './schema-command.js';
import { testConnectionCommand } from './test-connection-command.js';
import { validateCommand } from './validate-command.js';
import { VERSION, versionCommand } from './version.js';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`"${v}" is not a whole number above 0`);
  return n;
};

const outputOption = () =>
  new Option('-o, --output <format>', 'output format: table, json or yaml').default('table').argParser(parseFormat);

export function buildProgram(): Command {
  const program = new Command('provisio')
    .description('Native connectors as code: validate, run and inspect Connector and Task resources.')
    .version(VERSION, '--version', 'print the version')
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
    .option('--target-ca <file>', 'with --target m42: PEM file of a CA to trust for the home solution')
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
      if (opts.kubernetes && opts.dir) throw new UsageError('give either --dir PATH or --kubernetes, not both');
      if (!opts.kubernetes && opts.namespace) throw new UsageError('--namespace needs --kubernetes');
      if (!opts.kubernetes && !opts.dir) {
        throw new UsageError('give --dir PATH (the directory that holds your Connector and Task YAML) or --kubernetes');
      }
      process.exitCode = await runCommand(opts);
    });

  const sourceOptions = (cmd: Command) =>
    cmd
      .option('--dir <path>', 'resource directory (read without a running controller)')
      .option('--state-dir <dir>', 'state directory of the controller', DEFAULT_STATE_DIR)
      .option('--server <url>', 'a running controller (default $PROVISIO_SERVER)')
      .option('-n, --namespace <ns>', 'namespace (default: default)')
      .option('-A, --all-namespaces', 'all namespaces');

  sourceOptions(
    program
      .command('get')
      .description('list connectors, tasks, all of them, or the runs of a task')
      .argument('<type>', 'connectors, tasks, all, or runs')
      .argument('[name]', 'one resource (runs: the task)')
      .addOption(
        new Option('-o, --output <format>', 'table, wide, name, json, yaml or jsonpath=TEMPLATE')
          .default({ kind: 'table' }, 'table')
          .argParser(parseGetFormat),
      )
      .option('-l, --selector <selector>', 'only resources whose labels match (key=value, key!=value, key, !key)')
      .option('-w, --watch', 'print again whenever what is shown changes (until Ctrl-C)'),
  ).action(async (type: string, name: string | undefined, opts) => {
    await getVerb(type, name, opts.output, opts);
  });

  sourceOptions(
    program
      .command('describe')
      .description('show one connector or task in detail, with conditions and run history')
      .argument('<type>', 'connector or task')
      .argument('<name>', 'NAME or NAMESPACE/NAME')
      .option('-o, --output <format>', 'yaml or json: the object instead of the description'),
  ).action(async (type: string, name: string, opts) => {
    await describeVerb(type, name, opts.output, opts);
  });

  sourceOptions(
    program
      .command('export')
      .description(
        'print Connectors and Tasks as one YAML bundle to validate and apply elsewhere (no status, no secrets)',
      ),
  ).action(async (opts) => {
    process.exitCode = await exportCommand(opts);
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
    .description('list data cards: of the embedded local target, or of the home solution with --target m42')
    .argument('[template]', 'template (data card type)')
    .option('--state-dir <dir>', 'state directory of the controller', DEFAULT_STATE_DIR)
    .option('--limit <n>', 'most cards shown (default 200 in a table, all as json or yaml)', positiveInt)
    .addOption(new Option('--target <kind>', 'where the cards are').choices(['local', 'm42']).default('local'))
    .option('--target-url <url>', 'with --target m42: the REST API URL, such as https://host/rest-api/itsm/v1')
    .option('--target-ca <file>', 'with --target m42: PEM file of a CA to trust')
    .option('--webapi-secret <name>', 'with --target m42: the Secret with the WebAPI user (keys username, password)')
    .option('--secrets-dir <dir>', 'with --target m42: secrets directory; default $PROVISIO_SECRETS_DIR')
    .addOption(outputOption())
    .action(async (template: string | undefined, opts) => {
      await cardsCommand(template, opts.output, opts.stateDir, opts.limit, opts);
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
      .argument(
        '<target...>',
        op === 'suspend' || op === 'resume'
          ? '[task|connector] NAME or NAMESPACE/NAME (a connector: all its tasks)'
          : '[task] NAME or NAMESPACE/NAME',
      )
      .option('--server <url>', 'the controller (default $PROVISIO_SERVER or http://127.0.0.1:8080)')
      .option('-n, --namespace <ns>', 'namespace', 'default')
      .option('--kubernetes', 'operate on the Task in the cluster (annotations, spec.suspend) instead')
      .option('--kubeconfig <file>', 'with --kubernetes: kubeconfig file');
    if (op === 'clear-cache') {
      cmd.option('--cursor', 'also reset the incremental cursors: the next run reads every kind in full');
    }
    if (op === 'trigger') {
      cmd.option('--wait', 'follow the run until it ends; exit 1 if it failed');
      cmd.option('--if-idle', 'a task that already runs is not an error (exit 0)');
      cmd.option('--timeout <seconds>', 'longest to wait', (v) => Number.parseInt(v, 10), 7200);
    }
    cmd.action(async (target: string[], opts) => {
      const { kind, name: task } = operationTarget(op, target);
      if (kind === 'Connector') {
        process.exitCode = await connectorOperation(op, task, {
          ...opts,
          server: opts.server ?? process.env.PROVISIO_SERVER ?? 'http://127.0.0.1:8080',
        });
        return;
      }
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
        ifIdle: opts.ifIdle,
        timeoutSeconds: opts.timeout ?? 7200,
        cursor: opts.cursor,
      });
    });
  }

  program
    .command('schema')
    .description('print a JSON Schema for editors (yaml-language-server): Connectors and Tasks together, or one kind')
    .argument('[kind]', 'connector, task or all', 'all')
    .action((kind: string) => schemaCommand(kind));

  program
    .command('explain')
    .description('describe a field of a resource from its schema, e.g. task.spec.schedule (as kubectl explain)')
    .argument('<field>', 'TYPE[.FIELD...]: connector, task, task.spec.deletion, ...')
    .action((field: string) => console.log(explain(field)));

  program
    .command('version')
    .description('print the version of provisio')
    .option('-o, --output <format>', 'json')
    .action((opts) => versionCommand(opts.output));

  program
    .command('completion')
    .description('print a shell completion script: source <(provisio completion bash)')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      process.stdout.write(completionScript(shell, program));
    });

  program
    .command('plan')
    .description(
      'dry run: what a run of the task would create, update, leave, mark deleted and restore; writes nothing',
    )
    .argument('<task>', 'NAME or NAMESPACE/NAME')
    .requiredOption('--dir <path>', 'resource directory')
    .option('--state-dir <dir>', 'state directory of the controller (its cache and cards are read)', DEFAULT_STATE_DIR)
    .option('--secrets-dir <dir>', 'secrets directory (<dir>/<name>/<key>); default $PROVISIO_SECRETS_DIR')
    .option('-n, --namespace <ns>', 'namespace')
    .addOption(
      new Option('-o, --output <format>', 'table, wide (with the first keys of each change), json or yaml')
        .choices(['table', 'wide', 'json', 'yaml'])
        .default('table'),
    )
    .option('--limit <n>', 'keys shown per change with -o wide', (v) => Number.parseInt(v, 10), 10)
    .action(async (task: string, opts) => {
      const { planCommand } = await import('./plan-command.js');
      process.exitCode = await planCommand(task, opts);
    });

  program
    .command('logs')
    .description("a task's recent log lines from the running controller")
    .argument('<task>', 'NAME or NAMESPACE/NAME')
    .option('--run <id>', 'only the lines of this run')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--server <url>', 'the controller (default $PROVISIO_SERVER or http://127.0.0.1:8080)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .action(async (task: string, opts) => {
      const { logsCommand } = await import('./logs-command.js');
      process.exitCode = await logsCommand(task, {
        ...opts,
        server: opts.server ?? process.env.PROVISIO_SERVER ?? 'http://127.0.0.1:8080',
      });
    });

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
  quietOnClosedPipe();
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      // Help and --version exit 0; any other complaint of commander's is about the command line.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    console.error(`error: ${err.message ?? String(e)}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}

/** `provisio crds | head -1`: a reader that stops early ends the command quietly, without a stack trace. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}

await main(process.argv);
