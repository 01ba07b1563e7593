// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

return 0;
