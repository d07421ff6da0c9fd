// Who is logged in: GET /v1/account (null when logged out), and whether the local stage's
// dev mailbox answers.
import * as api from "./api.js";

export const session = {account: null, devMailbox: false};

export async function loadAccount() {
  try {
    session.account = await api.get("/v1/account");
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status !== 401) throw error;
    session.account = null;
  }
  return session.account;
}
