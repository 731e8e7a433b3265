"""Fine-tuning the embedded model to call our tools (`tansuo train tools`): requests and their gold
calls generated from the tools' schemas and examples (`templates`, `data`), turned into the prompts
the planner sends (`formats`), LoRA-trained on CPU and exported as a llama.cpp adapter (`train`)."""
