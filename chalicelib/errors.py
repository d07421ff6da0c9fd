"""The one error type the API answers with: JSON {"error": code, "message": sentence}."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"The {what} does not exist.")


def try_again() -> ApiError:
    """What the API answers when the store stays busy (store.Busy): concurrent writes to the
    same data, still after a few retries."""
    return ApiError(429, "try_again", "Another request is changing the same data. Try again.",
                    headers={"Retry-After": "1"}, extra={"retry_after": 1})
