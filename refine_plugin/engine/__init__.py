from .atomic_local_backend import AtomicLocalBackend  # noqa: F401
from .exact_resume_loop import ExactResumeEpochBasedTrainLoop  # noqa: F401
from .random_state_hook import RandomStateHook  # noqa: F401
from .cpu_distributed import prepare_cpu_distributed  # noqa: F401
from .registered_types import check_registered_types  # noqa: F401
from .latest_checkpoint import find_resumable_checkpoint  # noqa: F401
from .autocast_optim_wrapper import AutocastOptimWrapper  # noqa: F401
from .merged_groups_optim_constructor import MergedGroupsOptimWrapperConstructor  # noqa: F401
