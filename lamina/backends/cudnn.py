"""torch.backends.cudnn: lamina does not use cuDNN; scripts may still set these flags."""
enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    return False
