from pmctl.cli.app import main

main()
