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
