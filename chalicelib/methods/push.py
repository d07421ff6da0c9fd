"""Push approval from a mobile authenticator app, with number matching.

Enrolment is a pairing: the browser gets a single-use pairing code (and a QR code of it); the
app posts the code with its P-256 public key and receives a confirmation phrase; the person
types that phrase into the browser, which activates the method. A stolen pairing code thus
cannot bind an attacker's phone silently: its phrase shows on the attacker's phone only.

A login or step-up proof is an approved challenge (services/push.py creates and decides
them): verifying it marks the challenge used in the same write that issues the session.
"""
import hashlib
import hmac

from chalicelib import store
from chalicelib.clock import now_s, random_string
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods.base import Enrollment, VerificationMethod, Verified

PAIRING_SECONDS = 600
CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"   # no vowels (no words), no look-alikes
CODE_LENGTH = 16                                   # 77 bits
PHRASE_WORDS = 3
# 256 short, distinct, easy-to-type words: 3 of them are 24 bits, against 5 tries.
WORDS = (
    "acid acorn acre alarm album alert alley amber angle ankle apple apron arena armor arrow atlas "
    "attic badge bagel baker bamboo banjo barn basil basin beach beard bench berry bison blade "
    "blaze blend bloom board bonus boost brave bread brick bride brisk brook brush bucket buddy "
    "cabin cable cactus camel canal candy canoe cargo carol cedar chalk charm chess chief chili "
    "cider cinema civic clamp cliff cloak clock cloud clover coach cobra cocoa comet coral couch "
    "crane crisp crown crumb crust cycle daisy dance delta denim depot diary dingo disco dock "
    "dolphin donut dozen draft drift drum eagle easel echo elbow elder ember emu envoy epoch "
    "fable falcon fancy feast fence ferry fiber fiddle field flame flask fleet flint flora flute "
    "focus forge fossil frost fudge gadget galaxy gecko giant ginger glade globe glove gnome grape "
    "gravy grove guava guide habit harbor hazel hedge heron hiker hippo honey hotel husky igloo "
    "index inlet iris ivory jacket jaguar jelly jewel jolly judge juice kayak kettle kiosk kite "
    "koala label ladder lagoon lemon level lilac linen llama lobby lotus lunar lyric magnet mango "
    "maple marble meadow melon mentor metro mint mocha molar moose mosaic motor mural nectar "
    "needle noble noodle north nutmeg oasis ocean olive onion opera orbit otter oven owl paddle "
    "panda panel parade parcel pastel pebble pepper piano pilot pixel plaza plum polar pony "
    "poppy prism pulse quail quartz quest quilt radar radio raven relay ribbon ridge river robin "
    "rocket rodeo rumba saddle salad salmon satin scarf scout shore silver sketch slope sonar "
    "spice spoon squid stamp storm sugar summit swan tango teapot tiger toast topaz tower"
).split()


def normalise_pairing_code(value) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def pairing_code_hash(code: str) -> str:
    return hashlib.sha256(f"pairing:{code}".encode()).hexdigest()


def new_phrase() -> str:
    import secrets

    return " ".join(secrets.choice(WORDS) for _ in range(PHRASE_WORDS))


def phrase_digest(phrase, salt: str) -> str | None:
    if not isinstance(phrase, str):
        return None
    normalised = " ".join(phrase.lower().replace("-", " ").split())
    return hashlib.sha256(f"{salt}:{normalised}".encode()).hexdigest()


class PushMethod(VerificationMethod):
    type = "push"
    default_label = "Mobile app"
    display_name = "mobile authenticator app (push)"
    enrollment_seconds = PAIRING_SECONDS
    refusal = ("push_not_approved", "This push approval was already used or is no longer valid. Send a new push "
                                    "request.")
    enrollment_refusal = ("invalid_phrase", "That is not the phrase the app shows. Check it and type it again.")
    enrollment_conflict = ("pairing_expired", "This pairing expired. Start again.")

    def begin_enrollment(self, account, method_id, label):
        import segno

        code = random_string(CODE_ALPHABET, CODE_LENGTH)
        shown = "-".join(code[i:i + 4] for i in range(0, CODE_LENGTH, 4))
        settings = get_settings()
        from urllib.parse import urlencode

        # What the app needs, and nothing secret beyond the single-use code itself.
        uri = "mfa-push://pair?" + urlencode({"api": settings.public_base_url, "code": shown,
                                             "service": settings.service_name})
        expires_at = now_s() + min(settings.pending_method_seconds, PAIRING_SECONDS)   # as the pending method
        return Enrollment(
            record={"pairing_code_hash": pairing_code_hash(code)},
            response={"pairing_code": shown, "pairing_uri": uri, "qr_svg": segno.make(uri, error="m").svg_inline(scale=4)},
            ops=[store.op_put_pairing(pairing_code_hash(code), {
                "account_id": account["account_id"], "method_id": method_id, "email": account["email"],
                "expires_at": expires_at})],
        )

    def complete_enrollment(self, account, method, proof, now):
        if not method.get("device_id"):
            raise ApiError(409, "pairing_incomplete",
                           "No app has used this pairing code yet: scan the QR code with the app first.")
        digest = phrase_digest(proof.get("phrase"), method["phrase_salt"])
        if digest is None or not hmac.compare_digest(digest, method["phrase_hash"]):
            return None
        return Verified(ops=[store.op_activate_device(method["device_id"], int(now))])

    def verify(self, account, method, proof, now):
        if proof.get("push_device_id") != method.get("device_id") or not proof.get("challenge_id"):
            return None
        if proof.get("push_status") != "approved":
            return None
        return Verified(ops=[store.op_use_challenge(method["device_id"], proof["challenge_id"], int(now))],
                        details={"challenge_id": proof["challenge_id"]})

    def removal_ops(self, account_id, method):
        return [store.op_delete_device(method["device_id"], account_id)] if method.get("device_id") else []

    def removed(self, method):
        from chalicelib import sns

        sns.forget_endpoint(method.get("endpoint_arn"))

    def public_view(self, method):
        return {"device_name": method.get("device_name"), "platform": method.get("platform")}
