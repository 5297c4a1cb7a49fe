"""The ``egosonics`` subcommands: one module each, its parser beside its handler.

Each module has ``add_parser(subparsers)``, which adds the command and sets ``func`` to its handler; the handler turns
the parsed arguments into typed values and calls library functions. Importing a module here is light (argparse and
``egosonics.options`` only): heavy imports (torch, diffusers, gradio, cv2, ...) happen inside the handler that needs
them, so that ``egosonics --help`` starts at once. To add a command, add a module and its name to ``COMMANDS``.
"""

# In the order ``egosonics --help`` lists them.
COMMANDS = ("resynth", "spectrogram", "generate", "prepare", "train", "synth", "evaluate", "demo", "app", "study",
            "experiment")
