import { z } from "zod";

/**
 * The one place that reads Slack interaction payloads: the parts we rely on,
 * validated rather than trusted, and the one mapping of a payload's user to
 * the approver countersign records.
 */

const userSchema = z.object({
  id: z.string().min(1),
  username: z.string().optional(),
  name: z.string().optional(),
});

/** The parts of a block_actions payload we rely on. */
const clickSchema = z.object({
  user: userSchema,
  trigger_id: z.string().optional(),
  container: z.object({ channel_id: z.string().optional() }).optional(),
  channel: z.object({ id: z.string() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
});

/** The parts of a view_submission payload we rely on. */
const submissionSchema = z.object({
  user: userSchema,
  view: z.object({
    private_metadata: z.string(),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(
          z.string(),
          z.object({
            value: z.string().nullish(),
            selected_option: z.object({ value: z.string() }).nullish(),
          }),
        ),
      ),
    }),
  }),
});

/** Who clicked or submitted, as decisions record them: the Slack id and the best name Slack gave. */
export interface SlackActor {
  id: string;
  name: string | null;
}

export function actorOf(user: z.infer<typeof userSchema>): SlackActor {
  return { id: user.id, name: user.username ?? user.name ?? null };
}

/** A button click on a request message. */
export interface Click {
  user: SlackActor;
  /** The request the button belongs to (the button's value). */
  requestId: string;
  /** Where the click happened (for an ephemeral answer); null when Slack does not say. */
  channel: string | null;
  triggerId: string | undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: z.core.$ZodIssue[] };

export function parseClick(body: unknown): Parsed<Click> {
  const click = clickSchema.safeParse(body);
  if (!click.success) return { ok: false, issues: click.error.issues };
  const { user, actions, container, channel, trigger_id } = click.data;
  return {
    ok: true,
    value: {
      user: actorOf(user),
      requestId: actions[0]?.value ?? "",
      channel: container?.channel_id ?? channel?.id ?? null,
      triggerId: trigger_id,
    },
  };
}

/** A modal submission: who, the request (the view's private_metadata), and the fields' values. */
export interface Submission {
  user: SlackActor;
  requestId: string;
  /** The text value of an input block (block id = action id), or undefined. */
  text(block: string): string | undefined;
  /** The selected option of a block (block id = action id), or undefined. */
  selected(block: string): string | undefined;
}

export function parseSubmission(body: unknown): Parsed<Submission> {
  const submission = submissionSchema.safeParse(body);
  if (!submission.success) return { ok: false, issues: submission.error.issues };
  const { user, view } = submission.data;
  const values = view.state.values;
  return {
    ok: true,
    value: {
      user: actorOf(user),
      requestId: view.private_metadata,
      text: (block) => values[block]?.[block]?.value ?? undefined,
      selected: (block) => values[block]?.[block]?.selected_option?.value,
    },
  };
}
