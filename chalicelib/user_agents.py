"""A rough "Chrome on macOS" from a user agent, for a person to recognise a request by."""

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"), ("curl/", "curl"))
_SYSTEMS = (("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
UNKNOWN_BROWSER = "an unknown browser"
UNKNOWN_SYSTEM = "an unknown system"


def browser_and_os(user_agent: str) -> tuple[str, str]:
    """The first token that matches wins: Edge and Opera also say Chrome, Chrome also says Safari."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), UNKNOWN_BROWSER)
    system = next((name for token, name in _SYSTEMS if token in ua), UNKNOWN_SYSTEM)
    return browser, system
