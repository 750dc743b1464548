import { type LookupAddress, lookup } from "node:dns";
import { lookup as lookupAsync } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Where callbacks may go. By default only public unicast addresses: a
 * callback_url must not make countersign reach its own host, the cloud
 * metadata service or the private network (SSRF). Local development opts out
 * with `callbacks.allow_private_targets`.
 */
export interface TargetPolicy {
  allowPrivate: boolean;
}

/** Why an IP address may not be a callback target (ipaddr.js's range name), or null when it may. */
export function blockedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return "invalid";
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range !== "unicast") return range;
  // The rest of ::/96 (deprecated IPv4-compatible addresses) is reported as unicast; it is not public.
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) {
    return "ipv4Compatible";
  }
  return null;
}

const explain = (address: string, range: string) =>
  `resolves to ${address}, a ${range} address; callbacks may only reach public addresses ` +
  "(set callbacks.allow_private_targets: true in the configuration for local development)";

/** The URL's host as an address when it is an IP literal (any spelling the URL parser accepts), else null. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? null : host;
}

/**
 * Checks a callback_url when a request is created: an IP literal at once, a
 * host name by resolving it (every address must be allowed). A lookup that
 * fails for another reason than "no such host", or takes longer than
 * `resolveTimeoutMs`, lets it through: the check at connect time still holds.
 * Returns the problem, or null.
 */
export async function callbackUrlProblem(
  text: string,
  policy: TargetPolicy,
  resolveTimeoutMs = 2_000,
): Promise<string | null> {
  const url = new URL(text);
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  if (policy.allowPrivate) return null;
  const literal = literalAddress(url);
  if (literal !== null) {
    const range = blockedRange(literal);
    return range === null ? null : explain(literal, range);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), resolveTimeoutMs);
  });
  try {
    const addresses = await Promise.race([lookupAsync(url.hostname, { all: true, verbatim: true }), timeout]);
    if (addresses === null) return null;
    for (const { address } of addresses) {
      const range = blockedRange(address);
      if (range !== null) return explain(address, range);
    }
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOTFOUND" || code === "ENODATA" ? `host ${url.hostname} does not resolve` : null;
  } finally {
    clearTimeout(timer);
  }
}

/** A refused connection: the name resolved to an address callbacks may not reach. */
export class BlockedTargetError extends Error {
  readonly code = "ERR_CALLBACK_TARGET_BLOCKED";
}

/**
 * A `lookup` for the HTTP agent that delivers callbacks: the addresses a
 * name resolves to are checked right before the connection is made, so a
 * name that resolved to a public address at create time and to 127.0.0.1
 * now (DNS rebinding) is refused. Any blocked address fails the whole lookup.
 */
export function guardedLookup(policy: TargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      if (!policy.allowPrivate) {
        for (const { address } of addresses) {
          const range = blockedRange(address);
          if (range !== null) return callback(new BlockedTargetError(explain(address, range)), "", 0);
        }
      }
      const first = addresses[0];
      if (options.all) return callback(null, addresses);
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "", 0);
      return callback(null, first.address, first.family);
    });
  };
}
