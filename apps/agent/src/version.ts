/** Sent in every message so the API can tell agent builds apart; keep in step with package.json. */
export const AGENT_VERSION = '0.1.0';
