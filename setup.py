"""Packaging beyond pyproject.toml: the top-level ``templates/`` folder ships as ``engagement/templates``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["engagement*", "workers*"]), "engagement.templates"],
    # The e-mail templates live at the top of the repository, where publishers look for them,
    # and land inside the package on install, where the renderer finds them.
    package_dir={"engagement.templates": "templates"},
)
