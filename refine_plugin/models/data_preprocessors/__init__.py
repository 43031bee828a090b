from .channels_last_pose_data_preprocessor import ChannelsLastPoseDataPreprocessor  # noqa: F401
