"""The only code that knows DynamoDB: keys, conditional writes, transactions, TTL and
type conversion. Callers use the package (`store.get_method(...)`), never its modules:

  engine.py          conversion, expiry on read, reads, updates, queries, transactions
                     (ConditionFailed, Busy)
  keys.py            every key, and the table layout
  accounts.py        accounts (with their method summaries) and email tokens
  methods.py         verification methods and WebAuthn credential lookups
  login_attempts.py  login attempts
  sessions.py        sessions
  push.py            push pairings, devices, nonces, challenges, pending pushes
  owners.py          challenge state on a login attempt or session; ending one
  cli_logins.py      CLI logins (device authorization)
  audit.py           audit events
  outbox.py          notices
  limits.py          rate-limit counters and the second-factor lockout
  passwords.py       password changes and resets on the account item
  support.py         support's recovery: lifting a lock, the pending MFA reset (on the lockout item)
  deletion.py        deleting an account: its tombstone, the sweeps of what is left
  sso.py             single sign-on connections, their domains, requests to identity providers
  data_keys.py       the data keys that seal secrets at rest, and which one is current

Services compose several writes into one transaction with the `op_*` builders and
`transact`; a failed condition raises ConditionFailed naming which part failed.
"""
from chalicelib.store.accounts import (
    get_account,
    get_email_token,
    op_add_method_summary,
    op_check_pending_signup,
    op_consume_email_token,
    op_create_sso_account,
    op_move_account,
    op_put_email_token,
    op_put_pending_signup,
    op_remove_method_summary,
    op_rename_method_summary,
    op_set_email_change_token,
    op_use_email_token,
    op_verify_pending_signup,
    set_password_hash,
)
from chalicelib.store.audit import (
    list_events,
    op_put_event,
    put_event,
    put_unknown_login_event,
)
from chalicelib.store.cli_logins import (
    cancel_cli_logins,
    create_cli_login,
    get_cli_login_by_user_code,
    op_consume_cli_login,
    ops_decide_cli_login,
    record_cli_poll,
    slow_down_cli_login,
)
from chalicelib.store.data_keys import (
    create_first_data_key,
    get_current_data_key,
    get_data_key,
    list_data_keys,
    make_data_key_current,
)
from chalicelib.store.deletion import (
    account_leftovers,
    delete_items,
    deletions_in_progress,
    device_items,
    email_token_items,
    get_tombstone,
    indexed_items,
    op_account_is,
    op_delete_account_item,
    op_finish_tombstone,
    op_put_tombstone,
)
from chalicelib.store.engine import Busy, ConditionFailed, transact
from chalicelib.store.keys import GSI1, is_event_sort_key
from chalicelib.store.limits import (
    get_method_and_lockout,
    op_count_hit,
    op_reserve_second_factor_try,
    op_reset_lockout,
    refund_hit,
    release_second_factor_try,
)
from chalicelib.store.login_attempts import (
    get_login_attempt,
    get_login_try_items,
    op_consume_login_attempt,
    op_count_login_try,
    put_login_attempt,
    release_login_try,
)
from chalicelib.store.methods import (
    get_method,
    list_methods,
    op_activate_method,
    op_delete_credential,
    op_delete_method,
    op_put_active_method,
    op_put_credential,
    op_put_pending_method,
    op_rename_method,
    op_replace_method_record,
    op_update_active_method,
    op_use_method,
    replace_method_secret,
    reserve_enrollment_try,
    scan_methods_with,
)
from chalicelib.store.outbox import (
    claim_notice,
    delete_notice,
    list_pending_notices,
    notice_id_from_stream_keys,
    op_put_notice,
    release_notice,
)
from chalicelib.store.owners import (
    count_try,
    op_end_login_attempt,
    op_end_session,
    op_set_on_owner,
    op_set_on_owner_if,
    set_on_owner,
)
from chalicelib.store.passwords import (
    op_change_password,
    op_password_unchanged,
    op_reset_password,
    op_set_reset_token,
)
from chalicelib.store.push import (
    get_challenge,
    get_device,
    get_method_and_push_pending,
    get_pairing,
    list_challenges,
    op_activate_device,
    op_attach_device,
    op_block_push,
    op_consume_pairing,
    op_decide_challenge,
    op_delete_device,
    op_forget_push_pending,
    op_put_challenge,
    op_put_device,
    op_put_pairing,
    op_put_push_pending,
    op_set_device_email,
    op_use_challenge,
    set_device_push_token,
    use_device_nonce,
)
from chalicelib.store.sessions import (
    account_sessions,
    delete_session,
    delete_sessions,
    get_session,
    list_sessions,
    op_count_step_up_try,
    op_delete_session,
    op_mark_step_up,
    ops_put_session,
    ops_revoke_session,
    release_step_up_try,
    touch_session,
    unlist,
    was_revoked,
)
from chalicelib.store.sso import (
    delete_enforced_copies,
    get_account_and_domain,
    get_connection,
    get_domain,
    list_connections,
    op_claim_domain,
    op_domain_allows_passwords,
    op_put_connection,
    op_put_connection_event,
    op_put_request,
    op_use_assertion,
    ops_delete_connection,
    ops_set_enforced,
    put_enforced_copies,
    replace_connection_secret,
    use_request,
)
from chalicelib.store.support import (
    get_lockout,
    list_due_resets,
    op_clear_method_summaries,
    op_finish_reset,
    op_lift_lock,
    op_schedule_reset,
)
