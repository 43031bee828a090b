# What PackPoseInputs keeps of a PoseFix sample: MMPose's top-down meta keys plus the input pose
# that PoseFixRefiner renders into its pose channels.
posefix_meta_keys = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape',
                     'img_shape', 'input_size', 'input_center', 'input_scale', 'flip',
                     'flip_direction', 'flip_indices', 'raw_ann_info', 'dataset_name',
                     'input_pose', 'input_pose_visible')
