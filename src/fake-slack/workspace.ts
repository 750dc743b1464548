/**
 * The state of a fake Slack workspace: channels, DMs, users, user groups, messages,
 * ephemerals and opened modals. No HTTP here; `slack-api.ts` serves it, and the
 * simulator page reads it and listens to its changes.
 */

export const BOT_USER_ID = "UBOT";
export const BOT_ID = "BBOT";
export const TEAM_ID = "T0TEST";
export const TEAM_DOMAIN = "countersign-test";

export type MessageVersion = { text: string; blocks: unknown[] | undefined; at: number };

export type SlackMessage = {
  ts: string;
  channel: string;
  user: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts?: string;
  metadata?: unknown;
  /** How many times chat.update changed it. */
  updates: number;
  /** Every version, oldest first; the last one is the current state. */
  history: MessageVersion[];
};

export type Ephemeral = {
  message_ts: string;
  channel: string;
  user: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts?: string;
};

export type OpenedView = { id: string; trigger_id: string; view: Record<string, unknown>; at: number };

export type ChannelInfo = { id: string; name: string; kind: "channel" | "dm"; user?: string };

export type UserInfo = { id: string; name: string; real_name: string };

/** What changed; the simulator streams these to the browser. */
export type WorkspaceChange =
  | { type: "message_posted"; channel: string; ts: string; thread_ts?: string }
  | { type: "message_updated"; channel: string; ts: string }
  | { type: "ephemeral_posted"; channel: string; user: string; message_ts: string }
  | { type: "dm_opened"; channel: string; user: string }
  | { type: "view_opened"; id: string }
  | { type: "home_published"; user: string }
  | { type: "user_set"; id: string }
  | { type: "usergroup_set"; id: string }
  | { type: "api_call"; method: string; status: number; ok: boolean; error?: string }
  | { type: "reset" };

export type WorkspaceOptions = {
  /** Milliseconds since the epoch; message timestamps never go backwards from it. */
  now?: () => number;
  /** When given, only these channels (plus opened DMs) exist; others are `channel_not_found`. */
  knownChannels?: string[];
  /** Display names for channels in the simulator, by id. */
  channelNames?: Record<string, string>;
  users?: Record<string, { name: string; real_name: string }>;
  /** When true, users.info knows only the directory; otherwise any U…/W… id gets a derived name. */
  strictUsers?: boolean;
  usergroups?: Record<string, string[]>;
};

const CHANNEL_ID = /^[CGD][A-Z0-9]+$/;
const USER_ID = /^[UW][A-Z0-9]+$/;

export class Workspace {
  readonly now: () => number;
  private readonly opts: WorkspaceOptions;
  private readonly listeners = new Set<(change: WorkspaceChange) => void>();
  private channelMap = new Map<string, ChannelInfo>();
  private messageMap = new Map<string, SlackMessage[]>();
  private ephemeralList: Ephemeral[] = [];
  private viewList: OpenedView[] = [];
  private homeMap = new Map<string, Record<string, unknown>>();
  private usedTriggers = new Set<string>();
  private userMap = new Map<string, UserInfo>();
  private groupMap = new Map<string, string[]>();
  private lastTsMicros = 0;
  private viewCount = 0;

  constructor(opts: WorkspaceOptions = {}) {
    this.opts = opts;
    this.now = opts.now ?? (() => Date.now());
    this.seed();
  }

  private seed(): void {
    for (const id of this.opts.knownChannels ?? []) this.addChannel(id);
    for (const [id, u] of Object.entries(this.opts.users ?? {})) this.userMap.set(id, { id, ...u });
    for (const [id, users] of Object.entries(this.opts.usergroups ?? {})) this.groupMap.set(id, [...users]);
  }

  /** Forget every message, DM, view and change made at runtime; keep the configured directory. */
  reset(): void {
    this.channelMap = new Map();
    this.messageMap = new Map();
    this.ephemeralList = [];
    this.viewList = [];
    this.homeMap = new Map();
    this.usedTriggers = new Set();
    this.userMap = new Map();
    this.groupMap = new Map();
    this.seed();
    this.notify({ type: "reset" });
  }

  onChange(listener: (change: WorkspaceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change: WorkspaceChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }

  /** A Slack-looking timestamp ("1732262400.000100"), strictly increasing. */
  nextTs(): string {
    const micros = Math.max(Math.floor(this.now() * 1000), this.lastTsMicros + 100);
    this.lastTsMicros = micros;
    const s = Math.floor(micros / 1_000_000);
    return `${s}.${String(micros % 1_000_000).padStart(6, "0")}`;
  }

  /** The channel id a post to `id` lands in, or null when Slack would say channel_not_found. */
  resolveChannel(id: string): string | null {
    if (USER_ID.test(id)) return this.openDm(id).id;
    if (this.channelMap.has(id)) return id;
    if (this.opts.knownChannels !== undefined || !CHANNEL_ID.test(id)) return null;
    this.addChannel(id);
    return id;
  }

  private addChannel(id: string, user?: string): ChannelInfo {
    const name = this.opts.channelNames?.[id] ?? (user ? `dm-${user.toLowerCase()}` : id.toLowerCase());
    const kind = id.startsWith("D") ? "dm" : "channel";
    const info: ChannelInfo = user ? { id, name, kind, user } : { id, name, kind };
    this.channelMap.set(id, info);
    return info;
  }

  channels(): ChannelInfo[] {
    return [...this.channelMap.values()];
  }

  dms(): ChannelInfo[] {
    return this.channels().filter((c) => c.kind === "dm");
  }

  openDm(user: string): { id: string; alreadyOpen: boolean } {
    const id = `D${user.slice(1)}`;
    if (this.channelMap.has(id)) return { id, alreadyOpen: true };
    this.addChannel(id, user);
    this.notify({ type: "dm_opened", channel: id, user });
    return { id, alreadyOpen: false };
  }

  /** Every message in the channel, thread replies included, in ts order. */
  messages(channel: string): SlackMessage[] {
    return [...(this.messageMap.get(channel) ?? [])];
  }

  message(channel: string, ts: string): SlackMessage | undefined {
    return this.messageMap.get(channel)?.find((m) => m.ts === ts);
  }

  /** The replies under a parent message (the parent itself excluded), in ts order. */
  thread(channel: string, ts: string): SlackMessage[] {
    return this.messages(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);
  }

  post(input: {
    channel: string;
    text: string;
    blocks: unknown[] | undefined;
    thread_ts?: string;
    metadata?: unknown;
  }): SlackMessage {
    const ts = this.nextTs();
    const at = this.now();
    const message: SlackMessage = {
      ts,
      channel: input.channel,
      user: BOT_USER_ID,
      text: input.text,
      blocks: input.blocks,
      updates: 0,
      history: [{ text: input.text, blocks: input.blocks, at }],
    };
    if (input.thread_ts !== undefined) {
      // A reply to a reply lands in the root's thread, as in Slack.
      const parent = this.message(input.channel, input.thread_ts);
      message.thread_ts = parent?.thread_ts ?? input.thread_ts;
    }
    if (input.metadata !== undefined) message.metadata = input.metadata;
    const list = this.messageMap.get(input.channel) ?? [];
    list.push(message);
    this.messageMap.set(input.channel, list);
    this.notify({
      type: "message_posted",
      channel: input.channel,
      ts,
      ...(message.thread_ts !== undefined ? { thread_ts: message.thread_ts } : {}),
    });
    return message;
  }

  /** chat.update semantics: an omitted field keeps its previous value; `blocks: []` removes blocks. */
  update(channel: string, ts: string, change: { text?: string; blocks?: unknown[] }): SlackMessage | null {
    const message = this.message(channel, ts);
    if (!message) return null;
    if (change.text !== undefined) message.text = change.text;
    if (change.blocks !== undefined) message.blocks = change.blocks.length > 0 ? change.blocks : undefined;
    message.updates += 1;
    message.history.push({ text: message.text, blocks: message.blocks, at: this.now() });
    this.notify({ type: "message_updated", channel, ts });
    return message;
  }

  postEphemeral(input: Omit<Ephemeral, "message_ts">): Ephemeral {
    const ephemeral: Ephemeral = { ...input, message_ts: this.nextTs() };
    this.ephemeralList.push(ephemeral);
    this.notify({
      type: "ephemeral_posted",
      channel: input.channel,
      user: input.user,
      message_ts: ephemeral.message_ts,
    });
    return ephemeral;
  }

  ephemerals(channel?: string, user?: string): Ephemeral[] {
    return this.ephemeralList.filter(
      (e) => (channel === undefined || e.channel === channel) && (user === undefined || e.user === user),
    );
  }

  /** A trigger_id opens one view only; a second use is `exchanged_trigger_id`, as in Slack. */
  triggerUsed(triggerId: string): boolean {
    return this.usedTriggers.has(triggerId);
  }

  openView(triggerId: string, view: Record<string, unknown>): OpenedView {
    this.usedTriggers.add(triggerId);
    this.viewCount += 1;
    const id = `V${String(this.viewCount).padStart(8, "0")}`;
    const opened: OpenedView = { id, trigger_id: triggerId, view, at: this.now() };
    this.viewList.push(opened);
    this.notify({ type: "view_opened", id });
    return opened;
  }

  views(): OpenedView[] {
    return [...this.viewList];
  }

  /** views.publish: the Home tab a user sees now. */
  publishHome(user: string, view: Record<string, unknown>): void {
    this.homeMap.set(user, view);
    this.notify({ type: "home_published", user });
  }

  home(user: string): Record<string, unknown> | null {
    return this.homeMap.get(user) ?? null;
  }

  user(id: string): UserInfo | null {
    const known = this.userMap.get(id);
    if (known) return known;
    if (this.opts.strictUsers || !USER_ID.test(id)) return null;
    return { id, name: id.toLowerCase(), real_name: `User ${id}` };
  }

  setUser(id: string, info: { name: string; real_name: string }): void {
    this.userMap.set(id, { id, ...info });
    this.notify({ type: "user_set", id });
  }

  usergroup(id: string): string[] | null {
    const users = this.groupMap.get(id);
    return users ? [...users] : null;
  }

  setUsergroup(id: string, users: string[]): void {
    this.groupMap.set(id, [...users]);
    this.notify({ type: "usergroup_set", id });
  }
}
