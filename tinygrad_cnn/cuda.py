"""``tc.cuda``: there is no GPU here, as PyTorch's CPU build would say."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0
