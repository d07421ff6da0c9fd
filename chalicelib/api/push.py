"""Push approval: pairing (browser and app) and the app's signed requests. The browser's push
requests at login and step-up are in api/login.py and api/step_up.py."""
from chalice import Blueprint

from chalicelib.api import device_models, models
from chalicelib.api.http import BROWSER_ENROLLMENT, DEVICE, PUBLIC, Reply, cookie_for, endpoint, issued
from chalicelib.services import account_methods
from chalicelib.services.push import challenges, devices, pairing

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/methods/push/pairings", "POST", summary="Start pairing a mobile authenticator app: "
          "a single-use pairing code and its QR code, 10 minutes (step-up required, except for an account's "
          "first method)", auth=BROWSER_ENROLLMENT, body=models.StartPairingRequest, response=models.PairingStarted,
          status=201, errors=(400, 401, 403))
def start_pairing(call):
    started = account_methods.begin(call.session, "push", call.body.label, call.client)
    return Reply(models.PairingStarted(pairing_id=started["method_id"], **started).model_dump(), 201)


@endpoint(bp, "/v1/account/methods/push/pairings/{pairing_id}/confirm", "POST", summary="Finish pairing with "
          "the phrase the app shows: the push method becomes active", auth=BROWSER_ENROLLMENT,
          body=models.ConfirmPairingRequest, response=models.MethodConfirmed, errors=(400, 401, 403, 404, 409, 410))
def confirm_pairing(call, pairing_id):
    method, upgraded = pairing.confirm_pairing(call.session, pairing_id, call.body.phrase, call.client)
    body = models.MethodConfirmed(method=models.Method(**method), session=issued(upgraded, False) if upgraded else None,
                                  other_sessions=account_methods.other_sessions(call.session, upgraded))
    return Reply(body.model_dump(), 200, cookies=[cookie_for(upgraded)] if upgraded else [])


@endpoint(bp, "/v1/devices", "POST", summary="App: pair with a pairing code and the device's P-256 public key; "
          "answers the confirmation phrase to type into the browser", auth=PUBLIC, body=device_models.DeviceRegistration,
          response=device_models.DeviceRegistered, status=201, errors=(400, 404, 429, 503))
def register_device(call):
    body = call.body
    registered = pairing.register_device(body.pairing_code, body.public_key, body.push_token, body.platform,
                                      body.device_name, call.client)
    return Reply(device_models.DeviceRegistered(**registered).model_dump(), 201)


@endpoint(bp, "/v1/devices/{device_id}/challenges", "GET", summary="App (signed): the push requests waiting "
          "for an answer, with their context (not the number: the person types the one the browser shows)", auth=DEVICE,
          response=device_models.DeviceChallenges, errors=(401, 403))
def list_challenges(call, device_id):
    return device_models.DeviceChallenges(challenges=devices.pending_for_device(call.session)).model_dump()


@endpoint(bp, "/v1/devices/{device_id}/challenges/{challenge_id}", "POST", summary="App (signed): approve with "
          "the number the browser shows, typed by the person (a wrong one denies), deny, or report fraud (\"this "
          "wasn't me\": decision fraud or report_fraud); the first answer wins, the same answer again is answered "
          "the same",
          auth=DEVICE, body=device_models.ChallengeDecision, response=device_models.ChallengeDecided,
          errors=(400, 401, 403, 404, 409, 410))
def decide_challenge(call, device_id, challenge_id):
    body = call.body
    decided = challenges.decide(call.session, challenge_id, body.decision, body.number, body.report_fraud, call.client)
    return device_models.ChallengeDecided(**decided).model_dump()


@endpoint(bp, "/v1/devices/{device_id}/push-token", "PUT", summary="App (signed): a new push token",
          auth=DEVICE, body=device_models.PushTokenUpdate, response=models.Ok, errors=(400, 401, 403))
def update_push_token(call, device_id):
    devices.update_push_token(call.session, call.body.push_token)
    return models.Ok().model_dump()


@endpoint(bp, "/v1/devices/{device_id}", "DELETE", summary="App (signed): unpair this device; its push method "
          "is removed (409 last_method when it is the account's last way to log in)", auth=DEVICE,
          response=models.Ok, errors=(401, 403, 409))
def unpair(call, device_id):
    devices.unpair(call.session, call.client)
    return models.Ok().model_dump()
