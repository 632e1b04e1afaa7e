/**
 * What the subscription has told of each followed stream: the newest version it delivered. An
 * append written for an older version would be refused by the log (another writer got in first),
 * so it is not signed or sent at all. The stream as read stays the truth: a read that ends below
 * a delivered version (a subscription ahead of the read, or a bad message) lowers it again, so a
 * wrong delivery can cost one refused append, never stop appends.
 */
export class StreamHeads {
  private readonly delivered = new Map<string, number>();

  constructor(private readonly followed: ReadonlySet<string>) {}

  /** Notes an event the subscription delivered. */
  noteDelivered(stream: string, version: number): void {
    if (!this.followed.has(stream)) return;
    if (version > (this.delivered.get(stream) ?? 0)) this.delivered.set(stream, version);
  }

  /** Notes a read of the stream that ended at `version`. */
  noteRead(stream: string, version: number): void {
    if ((this.delivered.get(stream) ?? 0) > version) this.delivered.set(stream, version);
  }

  /** True when a newer event of the stream than `version` is known: an append at it would lose. */
  isBehind(stream: string, version: number): boolean {
    return (this.delivered.get(stream) ?? 0) > version;
  }
}
