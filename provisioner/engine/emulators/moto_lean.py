"""moto without the start-up work the recipes never use: the same emulated APIs and refusals, less time.

Two costs dominated a simulated deploy (issue 17's profile) and neither changes what an API call does:
- every ``botocore.session.Session()`` parses botocore's endpoint and partition data (about 0.16 s
  each), and moto makes a new one each time a service backend starts and in some validations;
- EC2's backend loads the latest and ECS-optimized AMIs of the region, which no recipe looks up
  (EKS node groups name an AMI type, not an image).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOAD_DEFAULT_AMIS_ENV = "MOTO_EC2_LOAD_DEFAULT_AMIS"


@contextmanager
def shared_botocore_data() -> Iterator[None]:
    """While active, every new botocore Session reads its data files through one loader.

    A loader caches what it parsed, and botocore sessions only read from it, so sharing one gives each
    session the same values it would parse itself. Sessions given their own data path (AWS_DATA_PATH)
    keep their own loader.
    """
    import botocore.loaders
    import botocore.session

    shared = botocore.loaders.create_loader()
    original = botocore.session.create_loader

    def create_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
        return shared if search_path_string is None else original(search_path_string)

    # botocore.session binds create_loader by name when a Session registers its data loader; there is no
    # public hook to hand sessions a loader, so the module attribute is swapped for this block only.
    botocore.session.create_loader = create_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original


@contextmanager
def lean_moto() -> Iterator[None]:
    """Shared botocore data, and no default AMIs unless the user asked for them (MOTO_EC2_LOAD_DEFAULT_AMIS)."""
    chosen = os.environ.get(LOAD_DEFAULT_AMIS_ENV)
    if chosen is None:
        os.environ[LOAD_DEFAULT_AMIS_ENV] = "false"
    try:
        with shared_botocore_data():
            yield
    finally:
        if chosen is None:
            os.environ.pop(LOAD_DEFAULT_AMIS_ENV, None)
