/**
 * `--target m42 --target-url URL`: a target per Connector, each logged in with that connector's WebAPI user
 * (spec.webApi.secretRef, keys `username` and `password`), so that the home solution's audit shows which
 * integration wrote a card. The TLS settings (a custom CA) are the target's, one for all connectors.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import type { Logger } from '../../log/logger.js';
import type { Connector } from '../../model/resources.js';
import { keyOf, namespaceOf } from '../../model/resources.js';
import { type SecretResolver, secretKey } from '../../secrets/resolver.js';
import type { RetryOptions } from '../../transport/http-client.js';
import type {
  Card,
  CardWrite,
  OwnedCardsQuery,
  Target,
  TargetFactory,
  TargetRequirement,
  UpsertOptions,
} from '../types.js';
import { M42Client, type M42Credentials } from './api/m42-client.js';
import { M42Target } from './m42-target.js';

export interface M42TargetOptions {
  /** `https://host/rest-api/itsm/v1`. */
  url: string;
  secrets: SecretResolver;
  log: Logger;
  /** PEM file of a CA to trust besides the public ones (--target-ca). */
  caFile?: string;
  /** Time limit of one request (default 60 s: bulk PUTs of 200 cards take a while). */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

export class M42Targets implements TargetFactory {
  private readonly targets = new Map<string, Target>();
  private readonly agent: Agent;
  private readonly stop = new AbortController();

  constructor(private readonly o: M42TargetOptions) {
    const parsed = new URL(o.url);
    if (parsed.username || parsed.password) {
      throw new Error('--target-url must not carry credentials: each connector logs in with its spec.webApi.secretRef');
    }
    this.agent = trustingAgent(o.caFile);
  }

  targetFor(connector: Connector): Target {
    const ref = connector.spec.webApi?.secretRef;
    const id = `${keyOf(connector)}\u0000${ref?.name ?? ''}`;
    let target = this.targets.get(id);
    if (!target) {
      target = ref ? this.open(connector, ref.name) : new MissingWebApi(connector);
      this.targets.set(id, target);
    }
    return target;
  }

  async close(): Promise<void> {
    this.stop.abort(new Error('the controller is shutting down'));
    await Promise.all([...this.targets.values()].map((t) => t.close()));
    this.targets.clear();
    await this.agent.close();
  }

  private open(connector: Connector, secretName: string): Target {
    const namespace = namespaceOf(connector);
    const log = this.o.log.child({ target: 'm42', connector: keyOf(connector) });
    return m42Target({
      ...this.o,
      log,
      agent: this.agent,
      signal: this.stop.signal,
      credentials: webApiCredentials(this.o.secrets, namespace, secretName),
    });
  }
}

/** The WebAPI user of a Secret (keys username, password), read at each login so that a rotation is picked up. */
export function webApiCredentials(
  secrets: SecretResolver,
  namespace: string,
  name: string,
): () => Promise<M42Credentials> {
  return async () => ({
    username: await secretKey(secrets, namespace, name, 'username'),
    password: await secretKey(secrets, namespace, name, 'password'),
  });
}

/** One target with one WebAPI user (the factory's per connector; `provisio cards --target m42`). */
export function m42Target(o: {
  url: string;
  log: Logger;
  credentials: () => Promise<M42Credentials>;
  agent?: Agent;
  caFile?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}): M42Target {
  const own = o.agent ? undefined : trustingAgent(o.caFile);
  const client = new M42Client({
    baseUrl: o.url,
    credentials: o.credentials,
    dispatcher: o.agent ?? (own as Agent),
    timeoutMs: o.timeoutMs ?? 60_000,
    log: o.log,
    signal: o.signal ?? new AbortController().signal,
    retry: o.retry,
    timeoutField: 'the m42 target request timeout',
    caField: '--target-ca',
    system: `the home solution at ${new URL(o.url).host}`,
  });
  return new M42Target(client, o.log, async () => {
    await own?.close();
  });
}

function trustingAgent(caFile: string | undefined): Agent {
  const ca = caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
  return new Agent({ connect: ca ? { ca } : {} });
}

/** The target of a connector without spec.webApi: every run fails at its check, saying what is missing. */
class MissingWebApi implements Target {
  readonly name = 'm42';
  private readonly message: string;

  constructor(connector: Connector) {
    this.message =
      `Connector ${keyOf(connector)} has no spec.webApi.secretRef: the m42 target writes data cards with the ` +
      "connector's WebAPI user (a Secret with keys username and password)";
  }

  async check(_requirements: readonly TargetRequirement[]): Promise<string[]> {
    return [this.message];
  }
  upsert(_t: string, _f: string | undefined, _u: string, _c: CardWrite[], _o?: UpsertOptions): never {
    throw new Error(this.message);
  }
  ownedCards(_q: OwnedCardsQuery): AsyncIterable<string> {
    throw new Error(this.message);
  }
  markDeleted(): never {
    throw new Error(this.message);
  }
  createCard(_t: string, _f: string | undefined, _a: Card): never {
    throw new Error(this.message);
  }
  list(): AsyncIterable<Card> {
    throw new Error(this.message);
  }
  async close(): Promise<void> {}
}
