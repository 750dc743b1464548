// Block Kit rendering: pure functions from a request to Slack messages and views.
export { LIMITS, measureBlocks, validateMessage, validateView } from "./render/limits.ts";
export {
  renderEscalationNotice,
  renderRefusal,
  renderReminder,
} from "./render/notices.ts";
export { REDACTED, redactParams } from "./render/params.ts";
export { REJECT_REASON_MAX, renderRejectModal } from "./render/reject-modal.ts";
export {
  RENDER_BUDGET,
  type RenderContext,
  type RenderedMessage,
  renderRequestMessage,
} from "./render/request-message.ts";
export { renderAlreadyFinal } from "./render/status.ts";
