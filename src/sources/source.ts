/**
 * Where the desired state comes from: a git directory or the Kubernetes API. A source validates what it
 * reads and writes it into the ResourceStore; the controller only ever sees the store.
 */
export interface ResourceSource {
  /** For logs: the directory, or the cluster and namespaces watched. */
  readonly description: string;
  /** The applied revision (git HEAD sha in git mode); undefined where there is none. */
  readonly revision: string | undefined;
  /** Reads everything once and fills the store. */
  load(): Promise<void>;
  /** Follows changes until close(). */
  watch(): Promise<void>;
  close(): Promise<void>;
}
