import { describe, expect, it } from "vitest";
import {
  escapeMrkdwn,
  escapeTruncate,
  formatDuration,
  isSafeUrl,
  joinAnd,
  safeLink,
  slackDate,
  truncate,
  usergroupMention,
  userMention,
} from "../../src/slack/mrkdwn.ts";

const MARKER = /… \((\d+) more characters?\)$/;

describe("escapeMrkdwn", () => {
  it("escapes only &, < and >", () => {
    expect(escapeMrkdwn(`a & b < c > d "e" 'f' *g* _h_ \`i\``)).toBe(
      `a &amp; b &lt; c &gt; d "e" 'f' *g* _h_ \`i\``,
    );
  });

  it("turns Slack's special forms into literal text", () => {
    expect(escapeMrkdwn("<!channel> <!here> <@U123> <http://evil|click>")).toBe(
      "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;http://evil|click&gt;",
    );
  });

  it("escapes an already escaped entity again, so it shows as typed", () => {
    expect(escapeMrkdwn("&lt;")).toBe("&amp;lt;");
  });
});

describe("truncate", () => {
  it("leaves a string that fits unchanged", () => {
    expect(truncate("hello", 5)).toBe("hello");
  });

  it("cuts to at most max characters with a marker counting what was cut", () => {
    const s = "x".repeat(1000);
    for (const max of [25, 26, 30, 99, 100, 101, 500, 999]) {
      const out = truncate(s, max);
      expect(out.length).toBeLessThanOrEqual(max);
      const m = MARKER.exec(out);
      expect(m, `max ${max}: ${out}`).not.toBeNull();
      const kept = out.length - (m?.[0].length ?? 0);
      expect(Number(m?.[1])).toBe(1000 - kept);
    }
  });

  it("uses the whole room: kept text plus marker is exactly max when possible", () => {
    expect(truncate("abcdefghij".repeat(10), 50)).toBe(
      `${"abcdefghij".repeat(2)}abcdefgh… (72 more characters)`,
    );
  });

  it("falls back to a bare ellipsis when the marker itself does not fit", () => {
    expect(truncate("abcdef", 3)).toBe("ab…");
    expect(truncate("abcdef", 0)).toBe("");
  });

  it("never splits a surrogate pair and counts code points", () => {
    const out = truncate("😀".repeat(100), 40);
    expect(out.length).toBeLessThanOrEqual(40);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    const kept = [...out.replace(MARKER, "")].length;
    expect(Number(MARKER.exec(out)?.[1])).toBe(100 - kept);
  });
});

describe("escapeTruncate", () => {
  it("counts the escaped length and never cuts inside an entity", () => {
    const out = escapeTruncate("&".repeat(100), 50);
    expect(out.length).toBeLessThanOrEqual(50);
    expect(out).toMatch(/^(&amp;)+… \(\d+ more characters\)$/);
    const kept = (out.match(/&amp;/g) ?? []).length;
    expect(Number(MARKER.exec(out)?.[1])).toBe(100 - kept);
  });

  it("escapes without cutting when the escaped text fits", () => {
    expect(escapeTruncate("<b>", 9)).toBe("&lt;b&gt;");
  });
});

describe("links and mentions", () => {
  it("builds a link only for http(s) URLs that cannot break the link syntax", () => {
    expect(safeLink("https://shop.example.com/o/1?a=1&b=2", "Order")).toBe(
      "<https://shop.example.com/o/1?a=1&amp;b=2|Order>",
    );
    expect(safeLink("javascript:alert(1)", "x")).toBeNull();
    expect(safeLink("ftp://example.com/x", "x")).toBeNull();
    expect(safeLink("http://evil|click", "x")).toBeNull();
    expect(safeLink("http://a.example/<!channel>", "x")).toBeNull();
    expect(safeLink("http://a.example/x y", "x")).toBeNull();
    expect(safeLink("not a url", "x")).toBeNull();
    expect(isSafeUrl("http://a.example/path")).toBe(true);
  });

  it("escapes the label of a link", () => {
    expect(safeLink("https://a.example/", "<!here> & |x")).toBe(
      "<https://a.example/|&lt;!here&gt; &amp; ¦x>",
    );
  });

  it("mentions only well-formed Slack ids", () => {
    expect(userMention("U0LEAD1")).toBe("<@U0LEAD1>");
    expect(userMention("W0ENTERPRISE")).toBe("<@W0ENTERPRISE>");
    expect(userMention("<@U123>")).toBe("&lt;@U123&gt;");
    expect(userMention("u0lead1")).toBe("u0lead1");
    expect(userMention("U1>|<!channel")).toBe("U1&gt;|&lt;!channel");
    expect(usergroupMention("S0LEADS")).toBe("<!subteam^S0LEADS>");
    expect(usergroupMention("<!channel>")).toBe("&lt;!channel&gt;");
  });

  it("renders a Slack date with an ISO fallback, and escapes a bad time", () => {
    expect(slackDate("2026-11-22T10:30:00.000Z")).toBe(
      "<!date^1795343400^{date_short_pretty} at {time}|2026-11-22T10:30:00.000Z>",
    );
    expect(slackDate("<!here>")).toBe("&lt;!here&gt;");
  });

  it("joins names the way people write them", () => {
    expect(joinAnd([])).toBe("");
    expect(joinAnd(["a"])).toBe("a");
    expect(joinAnd(["a", "b"])).toBe("a and b");
    expect(joinAnd(["a", "b", "c"])).toBe("a, b and c");
  });

  it("formats durations compactly", () => {
    expect(formatDuration(15 * 60_000)).toBe("15m");
    expect(formatDuration(90_000)).toBe("1m 30s");
    expect(formatDuration(2 * 3_600_000)).toBe("2h");
    expect(formatDuration(26 * 3_600_000 + 60_000)).toBe("1d 2h");
    expect(formatDuration(0)).toBe("0s");
  });
});
