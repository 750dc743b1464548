// Block Kit rendering: pure functions from a request to Slack messages and views.

export { EDIT_INPUT_MAX, renderEditModal } from "./edit-modal.ts";
export { LIMITS, measureBlocks, validateMessage, validateView } from "./limits.ts";
export {
  renderEscalationNotice,
  renderRefusal,
  renderReminder,
} from "./notices.ts";
export { REDACTED, redactParams } from "./params.ts";
export { REJECT_REASON_MAX, renderRejectModal } from "./reject-modal.ts";
export {
  RENDER_BUDGET,
  type RenderContext,
  type RenderedMessage,
  renderRequestMessage,
} from "./request-message.ts";
export { renderAlreadyFinal } from "./status.ts";
