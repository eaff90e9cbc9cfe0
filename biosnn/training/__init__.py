"""The torch-only training side: the one training loop (``loop.fit``), Lee et al.'s rule, online gradients."""
