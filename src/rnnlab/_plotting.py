"""matplotlib with the file-only Agg backend, imported on first use (plotting is
never needed to train, and the import costs half a second)."""


def pyplot():
    """matplotlib.pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
