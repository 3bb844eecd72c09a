// The outcomes of recent requests by request id, so that a retried update is answered with its
// first outcome instead of being applied again. Bounded: a workflow that lives for a year of
// requests keeps the last `limit`, oldest forgotten first (the server also de-duplicates an
// update id within a run).
export class RecentRequests<V = unknown> {
  private readonly map: Map<string, V>;

  constructor(
    entries: Iterable<[string, V]> = [],
    private readonly limit = 200,
  ) {
    this.map = new Map(entries);
    this.trim();
  }

  has(id: unknown): boolean {
    return typeof id === 'string' && this.map.has(id);
  }

  get(id: string): V | undefined {
    return this.map.get(id);
  }

  set(id: string, outcome: V): void {
    this.map.delete(id);
    this.map.set(id, outcome);
    this.trim();
  }

  entries(): [string, V][] {
    return [...this.map.entries()];
  }

  private trim(): void {
    for (const k of this.map.keys()) {
      if (this.map.size <= this.limit) break;
      this.map.delete(k);
    }
  }
}

/**
 * The handled requests of a workflow with several actions, remembered per action: a request id
 * that one action has handled is not taken for an answer to another (a client that reuses an id
 * across actions gets each applied once, not the first one's outcome). `perAction` false keeps
 * the behaviour of executions that began before (one set shared by every action); entries
 * carried over from such a run are still found by their bare id.
 */
export class ActionRequests<A extends string = string> {
  private readonly recent: RecentRequests;

  constructor(
    private readonly perAction: boolean,
    entries: Iterable<[string, unknown]> = [],
    limit = 200,
  ) {
    this.recent = new RecentRequests(entries, limit);
  }

  private key(action: A, id: string): string {
    return this.perAction ? `${action}\u0000${id}` : id;
  }

  has(action: A, id: unknown): boolean {
    if (typeof id !== 'string') return false;
    return this.recent.has(this.key(action, id)) || (this.perAction && this.recent.has(id));
  }

  get<V>(action: A, id: string): V | undefined {
    const v =
      this.recent.get(this.key(action, id)) ?? (this.perAction ? this.recent.get(id) : undefined);
    return v as V | undefined;
  }

  set(action: A, id: string, outcome: unknown): void {
    this.recent.set(this.key(action, id), outcome);
  }

  entries(): [string, unknown][] {
    return this.recent.entries();
  }
}
